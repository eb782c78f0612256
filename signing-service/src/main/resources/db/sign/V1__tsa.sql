-- Time-stamp token serial numbers: each node reserves blocks of 1,000 (TsaSerials.BLOCK) from this
-- sequence, so serials are unique across nodes without a round trip per token. Starts at 1: serial
-- numbers are positive.
CREATE SEQUENCE tsa_serial_blocks START WITH 1 INCREMENT BY 1;
