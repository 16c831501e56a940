//! The rule by which an institution reads patient data it did not write (DESIGN §9), written
//! once and rendered in two forms: inline over `resources r` (SQLite), and as the body of the
//! PostgreSQL function `kyoyu_readable_by`, installed from this rendering after the migrations
//! run. Inline, the rule's consent, patient and referral sub-queries were planned by PostgreSQL
//! with every search statement it had not kept prepared, four times the planning of the search
//! itself; a PL/pgSQL function's statements are planned once per session.
//!
//! The rule is a list of [`Clause`]s, each a guard on the row's own columns and a sub-query that
//! must find a match; the forms differ only in how they name the row's columns and the caller's
//! values ([`Term`]) and in how they join the clauses. Constants (categories, hidden values) come
//! from `access::classify`; a caller's values are bound, never spliced.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::StoreError;
use super::lock::LockKey;
use super::sql::Sql;
use crate::access::classify::{category, hidden};

/// What the rule reads: a column of the row, or a value of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Term {
    Category,
    Hidden,
    Person,
    /// The institution that wrote the row.
    Owner,
    Id,
    /// The reading institution.
    Institution,
    /// The time of the read (µs).
    At,
    /// Whether the read is an emergency read.
    Emergency,
}

/// The function's parameters in order: its name, its type and the term it carries.
const PARAMETERS: [(&str, &str, Term); 8] = [
    ("p_category", "TEXT", Term::Category),
    ("p_hidden", "TEXT", Term::Hidden),
    ("p_person", "TEXT", Term::Person),
    ("p_owner", "TEXT", Term::Owner),
    ("p_id", "TEXT", Term::Id),
    ("p_institution", "TEXT", Term::Institution),
    ("p_at", "BIGINT", Term::At),
    ("p_emergency", "BOOLEAN", Term::Emergency),
];

/// The function's name, as `pg_proc` knows it.
const FUNCTION: &str = "kyoyu_readable_by";

/// Where a rendering goes: SQL text, with each [`Term`] named the form's way.
trait Out {
    fn text(&mut self, s: &str);
    fn term(&mut self, t: Term);
}

/// The inline form: the row's columns of `resources r`, the caller's values bound.
struct Inline<'a> {
    sql: &'a mut Sql,
    institution: &'a str,
    now: i64,
    emergency: bool,
}

impl Out for Inline<'_> {
    fn text(&mut self, s: &str) {
        self.sql.push(s);
    }

    fn term(&mut self, t: Term) {
        match t {
            Term::Category => self.sql.push("r.access_category"),
            Term::Hidden => self.sql.push("r.hidden"),
            Term::Person => self.sql.push("r.person_key"),
            Term::Owner => self.sql.push("r.institution"),
            Term::Id => self.sql.push("r.res_id"),
            Term::Institution => self.sql.bind_text(self.institution),
            Term::At => self.sql.bind_int(self.now),
            Term::Emergency => self.sql.push(if self.emergency { "TRUE" } else { "FALSE" }),
        }
    }
}

/// The function's form: every term is one of its parameters.
struct Body(String);

impl Out for Body {
    fn text(&mut self, s: &str) {
        self.0.push_str(s);
    }

    fn term(&mut self, t: Term) {
        if let Some((name, _, _)) = PARAMETERS.iter().find(|(_, _, p)| *p == t) {
            self.0.push_str(name);
        }
    }
}

/// One way another institution's row becomes readable: `guard` on the row's own columns, then
/// a match of `exists`, the rows of a sub-query.
struct Clause {
    guard: fn(&mut dyn Out),
    exists: fn(&mut dyn Out),
    /// Whether an emergency read stands in for the match (it does for consent only).
    emergency_grants: bool,
}

fn quoted(out: &mut dyn Out, values: &[&str]) {
    out.text(&super::access_sql::quoted(values));
}

/// The rule's clauses, any of which lets the institution read the row.
const CLAUSES: [Clause; 3] = [
    // The person's patient data under that person's consent for the institution, or an
    // emergency declaration; never a row whose person is unknown.
    Clause {
        guard: |o| {
            use category::*;
            o.term(Term::Person);
            o.text(" IS NOT NULL AND ");
            o.term(Term::Category);
            o.text(" IN (");
            quoted(o, &[A, B, OTHER, PATIENT, CHECKUP, PATIENT_SUMMARY]);
            o.text(") AND (");
            o.term(Term::Hidden);
            o.text(" IS NULL OR ");
            o.term(Term::Hidden);
            o.text(" <> '");
            o.text(hidden::UNDELIVERED);
            o.text("')");
        },
        exists: |o| {
            o.text("SELECT 1 FROM consents c WHERE c.person_key = ");
            o.term(Term::Person);
            o.text(" AND c.institution = ");
            o.term(Term::Institution);
            o.text(" AND c.active AND (c.category = ");
            o.term(Term::Category);
            o.text(" OR ");
            o.term(Term::Category);
            o.text(" NOT IN (");
            quoted(o, &[category::A, category::B]);
            o.text(")) AND (c.period_start IS NULL OR c.period_start <= ");
            o.term(Term::At);
            o.text(") AND (c.period_end IS NULL OR c.period_end > ");
            o.term(Term::At);
            o.text(")");
        },
        emergency_grants: true,
    },
    // A Patient no institution owns (registered before Patients were kept per institution,
    // named by several institutions' submissions): readable by those that submitted data
    // about it.
    Clause {
        guard: |o| {
            o.term(Term::Category);
            o.text(" = '");
            o.text(category::PATIENT);
            o.text("' AND ");
            o.term(Term::Owner);
            o.text(" IS NULL");
        },
        exists: |o| {
            o.text("SELECT 1 FROM resources o WHERE o.patient_key = ");
            o.term(Term::Id);
            o.text(" AND o.access_category <> '");
            o.text(category::CONSENT);
            o.text("' AND o.institution = ");
            o.term(Term::Institution);
        },
        emergency_grants: false,
    },
    // A referral or discharge summary: by its addressee.
    Clause {
        guard: |o| {
            o.term(Term::Category);
            o.text(" IN (");
            quoted(o, &[category::REFERRAL, category::DISCHARGE]);
            o.text(")");
        },
        exists: |o| {
            o.text("SELECT 1 FROM documents d WHERE d.bundle_id = ");
            o.term(Term::Id);
            o.text(" AND d.recipient = ");
            o.term(Term::Institution);
        },
        emergency_grants: false,
    },
];

/// The rows the institution wrote and the rows that hold no patient data: how the condition
/// opens on both backends, before the rule or the call of its function.
fn own_or_shared(out: &mut dyn Out) {
    out.text("(");
    out.term(Term::Owner);
    out.text(" = ");
    out.term(Term::Institution);
    out.text(" OR ");
    out.term(Term::Category);
    out.text(" IS NULL OR ");
}

/// Appends the condition under which `institution` reads a row of `resources r` at `now`:
/// the rule inline on SQLite, a call of the installed function on PostgreSQL.
pub(super) fn institution_condition(sql: &mut Sql, institution: &str, now: i64, emergency: bool) {
    let postgres = sql.is_postgres();
    let out = &mut Inline {
        sql,
        institution,
        now,
        emergency,
    };
    own_or_shared(out);
    if postgres {
        out.text(FUNCTION);
        out.text("(");
        for (i, (_, _, term)) in PARAMETERS.iter().enumerate() {
            if i > 0 {
                out.text(", ");
            }
            out.term(*term);
        }
        out.text("))");
        return;
    }
    for (i, clause) in CLAUSES.iter().enumerate() {
        if i > 0 {
            out.text(" OR ");
        }
        out.text("(");
        (clause.guard)(out);
        if !(clause.emergency_grants && emergency) {
            out.text(" AND EXISTS (");
            (clause.exists)(out);
            out.text(")");
        }
        out.text(")");
    }
    out.text(")");
}

/// The PL/pgSQL body of `kyoyu_readable_by`: each clause's guard a plain expression, each
/// sub-query a statement of its own, so each is planned once per session on a generic plan.
pub(super) fn function_body() -> String {
    let mut body = Body(String::from("\nBEGIN\n"));
    let out = &mut body;
    for clause in &CLAUSES {
        out.text("    IF ");
        (clause.guard)(out);
        out.text(" THEN\n");
        if clause.emergency_grants {
            out.text("        IF ");
            out.term(Term::Emergency);
            out.text(" THEN\n            RETURN TRUE;\n        END IF;\n");
        }
        out.text("        IF EXISTS (");
        (clause.exists)(out);
        out.text(") THEN\n            RETURN TRUE;\n        END IF;\n    END IF;\n");
    }
    out.text("    RETURN FALSE;\nEND\n");
    body.0
}

/// The statement that installs the function with `body`: the signature and volatility of the
/// migrations that first created it, so a server of the previous version keeps calling it.
fn create_statement(body: &str) -> String {
    let parameters: Vec<String> = PARAMETERS
        .iter()
        .map(|(name, ty, _)| format!("{name} {ty}"))
        .collect();
    format!(
        "CREATE OR REPLACE FUNCTION {FUNCTION}({}) RETURNS BOOLEAN LANGUAGE plpgsql STABLE \
         AS $kyoyu${body}$kyoyu$",
        parameters.join(", ")
    )
}

#[derive(QueryableByName)]
struct Source {
    #[diesel(sql_type = Text)]
    prosrc: String,
}

/// Installs the function from [`function_body`] in the current schema when what is installed
/// differs, one server at a time. Returns whether it was replaced.
pub(super) fn install(conn: &mut PgConnection) -> Result<bool, StoreError> {
    let body = function_body();
    conn.transaction(|c| {
        super::postgres::advisory_xact_lock(c, &LockKey::AccessRule.to_string())?;
        let installed: Vec<Source> = diesel::sql_query(
            "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = current_schema() AND p.proname = $1",
        )
        .bind::<Text, _>(FUNCTION)
        .load(c)?;
        if installed.iter().any(|s| s.prosrc == body) {
            return Ok(false);
        }
        diesel::sql_query(create_statement(&body)).execute(c)?;
        Ok(true)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The inline form with the function's parameter names for the row's columns and `?` for
    /// each bind, as the function's body names them.
    fn inline_as_parameters(emergency: bool) -> String {
        let mut sql = Sql::new(false);
        institution_condition(&mut sql, "1311234567", 0, emergency);
        let mut text = sql.debug_text();
        for (name, _, term) in PARAMETERS {
            let column = match term {
                Term::Category => "r.access_category",
                Term::Hidden => "r.hidden",
                Term::Person => "r.person_key",
                Term::Owner => "r.institution",
                Term::Id => "r.res_id",
                Term::Institution | Term::At | Term::Emergency => continue,
            };
            text = text.replace(column, name);
        }
        text
    }

    /// Each clause of the inline rule, as the body would test it.
    fn clauses_of(inline: &str) -> Vec<String> {
        let inner = inline
            .strip_prefix("(p_owner = ? OR p_category IS NULL OR (")
            .and_then(|s| s.strip_suffix("))"))
            .unwrap();
        inner.split(") OR (").map(str::to_string).collect()
    }

    #[test]
    fn the_function_body_tests_what_the_inline_rule_tests() {
        let body = function_body()
            .replace("p_institution", "?")
            .replace("p_at", "?");
        let lines: Vec<&str> = body.lines().map(str::trim).collect();
        // Without an emergency each inline clause is `guard AND EXISTS (query)`; the body tests
        // the guard, then the query.
        let clauses = clauses_of(&inline_as_parameters(false));
        assert_eq!(clauses.len(), CLAUSES.len());
        let mut tested = Vec::new();
        for line in &lines {
            if let Some(cond) = line
                .strip_prefix("IF ")
                .and_then(|l| l.strip_suffix(" THEN"))
            {
                tested.push(cond.to_string());
            }
        }
        let mut want = Vec::new();
        for (clause, rule) in clauses.iter().zip(&CLAUSES) {
            let (guard, exists) = clause.split_once(" AND EXISTS (").unwrap();
            want.push(guard.to_string());
            if rule.emergency_grants {
                want.push("p_emergency".to_string());
            }
            want.push(format!("EXISTS ({exists}"));
        }
        assert_eq!(tested, want);
        // An emergency read drops the consent query, which the body's `p_emergency` skips.
        let emergency = clauses_of(&inline_as_parameters(true));
        assert_eq!(emergency[0], want[0]);
        assert_eq!(emergency[1..], clauses[1..]);
    }

    /// The inline rule as it stood before it had a second form: SQLite's statements are
    /// unchanged, so its plans are.
    #[test]
    fn the_inline_rule_is_unchanged() {
        let mut sql = Sql::new(false);
        institution_condition(&mut sql, "1311234567", 0, false);
        assert_eq!(
            sql.debug_text(),
            "(r.institution = ? OR r.access_category IS NULL OR (r.person_key IS NOT NULL AND \
             r.access_category IN ('A', 'B', 'other', 'patient', 'checkup', 'patient-summary') \
             AND (r.hidden IS NULL OR r.hidden <> 'UNDELIVERED') AND EXISTS (SELECT 1 FROM \
             consents c WHERE c.person_key = r.person_key AND c.institution = ? AND c.active \
             AND (c.category = r.access_category OR r.access_category NOT IN ('A', 'B')) AND \
             (c.period_start IS NULL OR c.period_start <= ?) AND (c.period_end IS NULL OR \
             c.period_end > ?))) OR (r.access_category = 'patient' AND r.institution IS NULL \
             AND EXISTS (SELECT 1 FROM resources o WHERE o.patient_key = r.res_id AND \
             o.access_category <> 'consent' AND o.institution = ?)) OR (r.access_category IN \
             ('referral', 'discharge-summary') AND EXISTS (SELECT 1 FROM documents d WHERE \
             d.bundle_id = r.res_id AND d.recipient = ?)))"
        );
        let mut sql = Sql::new(true);
        institution_condition(&mut sql, "1311234567", 0, true);
        assert_eq!(
            sql.debug_text(),
            "(r.institution = ? OR r.access_category IS NULL OR kyoyu_readable_by(\
             r.access_category, r.hidden, r.person_key, r.institution, r.res_id, ?, ?, TRUE))"
        );
    }

    /// Installed once, then left alone; what is installed is the rendering.
    #[test]
    fn postgresql_runs_the_rendered_rule() {
        use diesel::sql_types::Bool;
        #[derive(QueryableByName)]
        struct Same {
            #[diesel(sql_type = Bool)]
            same: bool,
        }
        let Some(admin) = crate::test_data::postgres_url() else {
            return;
        };
        let schema = format!("a_{}", uuid::Uuid::new_v4().simple());
        let mut c = PgConnection::establish(&admin).unwrap();
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut c)
            .unwrap();
        let sep = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{sep}options=-csearch_path%3D{schema}");
        let migrated =
            super::super::run_migrations(&super::super::DatabaseUrl::Postgres(url.clone()));
        let mut s = PgConnection::establish(&url).unwrap();
        let replaced_again = install(&mut s);
        let same: Result<Vec<Same>, _> = diesel::sql_query(
            "SELECT p.prosrc = $1 AS same FROM pg_proc p JOIN pg_namespace n \
             ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND p.proname = $2",
        )
        .bind::<Text, _>(function_body())
        .bind::<Text, _>(FUNCTION)
        .load(&mut s);
        diesel::sql_query(format!("DROP SCHEMA {schema} CASCADE"))
            .execute(&mut c)
            .unwrap();
        migrated.unwrap();
        assert!(!replaced_again.unwrap(), "installed once");
        let same: Vec<bool> = same.unwrap().into_iter().map(|s| s.same).collect();
        assert_eq!(same, [true]);
    }
}
