DROP TABLE search_index_version;
DROP TABLE search_token_pair;
DROP TABLE search_uri;
DROP TABLE search_quantity;
DROP TABLE search_number;
