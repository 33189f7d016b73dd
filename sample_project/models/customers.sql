-- Customer master data (Parquet export of the CRM); a few customers have no e-mail address.
SELECT
  customer_id,
  name,
  email,
  lower(split_part(email, '@', 2)) AS email_domain,
  country,
  region,
  segment,
  signup_date
FROM read_parquet('data/customers.parquet')
