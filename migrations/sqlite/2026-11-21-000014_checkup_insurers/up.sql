-- Insurers read the checkup reports that name their insurer number, found in the Bundle's
-- computed `insurer` index. Reports registered before that index existed get it here from the
-- member identifier kept with the document (`insurer:symbol:number:branch`, the first part 8
-- digits); a Coverage payor is indexed when the report is next posted. Rows indexed already are
-- left as they are.
INSERT INTO search_token (rkey, res_type, param, system, code)
SELECT r.rkey, 'Bundle', 'insurer', 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber',
       substr(d.patient_identifier, 60, 8)
FROM documents d
JOIN resources r ON r.res_type = 'Bundle' AND r.res_id = d.bundle_id
WHERE d.kind = 'checkup'
  AND d.status = 'active'
  AND substr(d.patient_identifier, 1, 59) = 'http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID|'
  AND length(substr(d.patient_identifier, 60, 8)) = 8
  AND substr(d.patient_identifier, 60, 8) NOT GLOB '*[^0-9]*'
  AND (length(d.patient_identifier) = 67 OR substr(d.patient_identifier, 68, 1) = ':')
  AND NOT EXISTS (SELECT 1 FROM search_token t
                  WHERE t.rkey = r.rkey AND t.param = 'insurer'
                    AND t.code = substr(d.patient_identifier, 60, 8));
