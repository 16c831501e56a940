DROP TABLE document_members;
DROP TABLE documents;
