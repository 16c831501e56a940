//! `kyoyu package …`: install (files, folders, or NAME#VERSION from a registry), list, check, and
//! the regeneration of the compiled base model and code sets. Exit codes: 0 success, 1 failure,
//! 2 bad usage or configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use crate::packages::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_REGISTRY, DEFAULT_STORE, InstalledPackage, PackageSet,
    PackageSpec, PackageStore, Registry, SHIPPED_DIR, available, install_from_registry,
    side_by_side,
};

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Install FHIR packages into the package store: .tgz files, package directories, or
    /// NAME / NAME#VERSION / NAME#1.x from a FHIR package registry.
    Install {
        /// A .tgz file, a package directory (with or without its `package/` folder), or a
        /// package name with an optional version (`jp-core.r4#1.1.2`; none: the latest).
        #[arg(required = true, value_name = "SOURCE")]
        sources: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List the packages of the store and those shipped in profiles/: one line per package
    /// name, its versions newest first, each marked (store) or (shipped).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Load the store's packages (and any extra ones) and report counts, time and conflicts;
    /// exits 1 when two packages define the same url|version differently.
    Check {
        /// More packages to load after the store's (.tgz files or directories).
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Regenerate the compact base model and JSON Schemas from the R4 core package.
    GenerateBase {
        /// The hl7.fhir.r4.core package (.tgz or directory).
        #[arg(long, value_name = "PACKAGE")]
        from: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "fhir-schemas")]
        out: PathBuf,
    },
    /// Regenerate the base code sets (expansions of the required bindings) from the R4 core package.
    GenerateCodesets {
        /// The hl7.fhir.r4.core package (.tgz or directory).
        #[arg(long, value_name = "PACKAGE")]
        from: PathBuf,
        #[arg(long, value_name = "DIR", default_value = "codesets")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// The operator's package store [default: kyoyu-data/packages].
    #[arg(
        long = "package-store",
        visible_alias = "store",
        env = "KYOYU_PACKAGE_STORE",
        value_name = "DIR"
    )]
    pub store: Option<PathBuf>,
    /// TOML configuration file: its `package_store`, `package_registry` and `profiles` apply.
    #[arg(long, env = "KYOYU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The packages shipped with the server, read beside the store's (never written)
    /// [default: profiles].
    #[arg(long, env = "KYOYU_PROFILES", value_name = "DIR")]
    pub profiles: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// FHIR package registry for NAME#VERSION sources [default: `https://packages.fhir.org`].
    #[arg(long, env = "KYOYU_PACKAGE_REGISTRY", value_name = "URL")]
    pub registry: Option<String>,
    /// Also install, from the registry, the dependencies that are not available.
    #[arg(long)]
    pub with_dependencies: bool,
    /// Largest package archive downloaded, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_DOWNLOAD_BYTES)]
    pub max_download_bytes: u64,
}

/// Flags and environment over the configuration file over the defaults.
struct Settings {
    store: PackageStore,
    shipped: PathBuf,
    registry: String,
}

impl StoreArgs {
    fn settings(&self, registry: Option<&str>) -> Result<Settings, crate::config::ConfigError> {
        let file = crate::config::package_settings(self.config.as_ref())?;
        let store = self
            .store
            .clone()
            .or(file.package_store)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORE));
        let registry = registry
            .map(str::to_string)
            .or(file.package_registry)
            .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
        Ok(Settings {
            store: PackageStore::new(store),
            shipped: self
                .profiles
                .clone()
                .or(file.profiles)
                .unwrap_or_else(|| PathBuf::from(SHIPPED_DIR)),
            registry,
        })
    }
}

pub fn run(command: PackageCommand) -> ExitCode {
    match command {
        PackageCommand::Install {
            sources,
            store,
            registry,
        } => with_settings(&store, registry.registry.as_deref(), |s| {
            install(&sources, &s, &registry)
        }),
        PackageCommand::List { store } => with_settings(&store, None, |s| list(&s)),
        PackageCommand::Check { paths, store } => {
            with_settings(&store, None, |s| check(&paths, &s))
        }
        PackageCommand::GenerateBase { from, out } => generate_base(&from, &out),
        PackageCommand::GenerateCodesets { from, out } => generate_codesets(&from, &out),
    }
}

fn with_settings(
    args: &StoreArgs,
    registry: Option<&str>,
    f: impl FnOnce(Settings) -> ExitCode,
) -> ExitCode {
    match args.settings(registry) {
        Ok(settings) => f(settings),
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::from(2)
        }
    }
}

/// A source naming something on disk (or shaped like a path) is a file install; the rest are
/// package names for the registry.
fn is_local(source: &str) -> bool {
    Path::new(source).exists()
        || source.contains('/')
        || source.contains(std::path::MAIN_SEPARATOR)
        || source.ends_with(".tgz")
}

fn install(sources: &[String], settings: &Settings, args: &RegistryArgs) -> ExitCode {
    let store = &settings.store;
    let mut failed = false;
    let mut registry = None;
    for source in sources {
        if is_local(source) || source.starts_with("http://") || source.starts_with("https://") {
            match store.install(source) {
                Ok(p) => report_installed(&p),
                Err(e) => {
                    eprintln!("kyoyu: {e}");
                    failed = true;
                }
            }
            continue;
        }
        let spec = match PackageSpec::parse(source) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kyoyu: {e}");
                failed = true;
                continue;
            }
        };
        if registry.is_none() {
            match Registry::new(&settings.registry, args.max_download_bytes) {
                Ok(r) => registry = Some(r),
                Err(e) => {
                    eprintln!("kyoyu: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let Some(registry) = &registry else { continue };
        match install_from_registry(
            store,
            &settings.shipped,
            registry,
            &spec,
            args.with_dependencies,
        ) {
            Ok(fetched) => {
                for p in &fetched.installed {
                    report_installed(p);
                }
                for m in &fetched.missing {
                    println!(
                        "dependency not installed: {}#{} (needed by {}; install it, or use --with-dependencies)",
                        m.name, m.version, m.needed_by
                    );
                }
            }
            Err(e) => {
                eprintln!("kyoyu: {spec}: {e}");
                failed = true;
            }
        }
    }
    // Conflicts with what was already installed are the operator's to resolve.
    match store.load() {
        Ok(set) => {
            for conflict in set.conflicts() {
                eprintln!("kyoyu: warning: {conflict}");
            }
        }
        Err(e) => {
            eprintln!("kyoyu: the store no longer loads: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn report_installed(p: &InstalledPackage) {
    println!(
        "installed {} ({} conformance resources) in {}{}",
        p.id,
        p.conformance_resources,
        p.path.display(),
        if p.replaced { ", replacing it" } else { "" }
    );
}

fn list(settings: &Settings) -> ExitCode {
    let found = match available(&settings.store, &settings.shipped) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "store: {}; shipped: {}",
        settings.store.root().display(),
        settings.shipped.display()
    );
    if found.is_empty() {
        println!("no packages");
        return ExitCode::SUCCESS;
    }
    let lines = side_by_side(&found);
    let width = lines.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for line in lines {
        let versions: Vec<String> = line
            .versions
            .iter()
            .map(|(v, origin)| format!("{v} ({})", origin.label()))
            .collect();
        println!("{:<width$}  {}", line.name, versions.join(", "));
    }
    ExitCode::SUCCESS
}

fn check(paths: &[PathBuf], settings: &Settings) -> ExitCode {
    let started = std::time::Instant::now();
    let loaded = settings.store.load().and_then(|mut set| {
        for p in PackageSet::load(paths)?.into_packages() {
            set.add(p);
        }
        Ok(set)
    });
    let set = match loaded {
        Ok(set) => set,
        Err(e) => {
            eprintln!("kyoyu: {e}");
            return ExitCode::FAILURE;
        }
    };
    let elapsed = started.elapsed();
    for p in set.packages() {
        println!(
            "{}: {} conformance resources ({} StructureDefinitions, {} ValueSets, {} CodeSystems) from {}",
            p.id,
            p.resources.len(),
            p.count_of("StructureDefinition"),
            p.count_of("ValueSet"),
            p.count_of("CodeSystem"),
            p.source.display()
        );
    }
    println!(
        "loaded {} packages in {} ms",
        set.packages().len(),
        elapsed.as_millis()
    );
    for conflict in set.conflicts() {
        eprintln!("kyoyu: conflict: {conflict}");
    }
    if set.conflicts().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn generate_base(from: &Path, out: &Path) -> ExitCode {
    match crate::model::generate_base(from, out) {
        Ok(report) => {
            let bytes: u64 = report.files.iter().map(|(_, n)| n).sum();
            println!(
                "{}: {} types, {} elements → {} ({} files, {} bytes)",
                report.package,
                report.types,
                report.elements,
                out.display(),
                report.files.len(),
                bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate_codesets(from: &Path, out: &Path) -> ExitCode {
    match crate::validation::valuesets::generate_codesets(from, out) {
        Ok(r) => {
            println!(
                "{}: {} value sets ({} codes), {} not enumerable → {} ({} bytes)",
                r.package,
                r.value_sets,
                r.codes,
                r.not_enumerable,
                r.path.display(),
                r.bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kyoyu: {e}");
            ExitCode::FAILURE
        }
    }
}
