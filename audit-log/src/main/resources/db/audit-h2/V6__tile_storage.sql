-- Nothing to tune on H2; this keeps migration versions the same on both databases. (Until
-- V6 the vendor folders were named with Spring Boot's {vendor} placeholder, which core Flyway
-- does not know: no vendor migration ran before, so this one is V6, not V2.)
SELECT 1;
