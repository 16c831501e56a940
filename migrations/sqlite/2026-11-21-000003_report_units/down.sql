DROP TABLE report_unit_members;
DROP TABLE report_units;
