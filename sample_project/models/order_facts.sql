-- @materialize: true
-- One row per order, enriched with product and customer attributes, revenue and cost.
-- Guest orders (no customer) keep NULL customer columns, including region.
SELECT
  o.order_id,
  o.ordered_at,
  o.shipped_at,
  o.status,
  o.customer_id,
  c.name AS customer_name,
  c.email_domain,
  c.segment,
  c.country,
  c.region,
  p.product_id,
  p.product,
  p.category,
  o.quantity,
  o.unit_price,
  p.unit_cost,
  o.coupon_code,
  o.quantity * o.unit_price AS revenue,
  o.quantity * p.unit_cost AS cost
FROM orders AS o
JOIN products AS p ON p.product_id = o.product_id
LEFT JOIN customers AS c ON c.customer_id = o.customer_id
