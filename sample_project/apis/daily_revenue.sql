-- @type: api
-- A SQL file becomes an API through the annotation above; its name is the file stem.
-- Daily orders and revenue between two days (inclusive), the first week of December by default.
-- Args printed inside quotes have their quotes doubled (replace), so a value cannot end the string.
--   GET /v1/instances/default/api/daily_revenue?start_date=2024-06-01&end_date=2024-06-03
SELECT
  CAST(ordered_at AS DATE) AS day,
  COUNT(*) AS orders,
  SUM(revenue) AS revenue
FROM order_facts
WHERE ordered_at >= '{{ default "2024-12-01" .args.start_date | replace "'" "''" }}'::DATE
  AND ordered_at < '{{ default "2024-12-07" .args.end_date | replace "'" "''" }}'::DATE + INTERVAL 1 DAY
GROUP BY day
ORDER BY day
