DROP TABLE terminology_imports;
DROP TABLE value_sets;
DROP TABLE code_system_concepts;
DROP TABLE code_systems;
