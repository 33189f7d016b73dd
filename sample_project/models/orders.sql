-- Orders exported by the shop: one row per order (a single product line each).
-- Guest checkouts have no customer_id; orders not yet shipped have no shipped_at.
SELECT *
FROM read_csv('data/orders.csv', header = true, columns = {
  'order_id': 'INTEGER',
  'ordered_at': 'TIMESTAMP',
  'shipped_at': 'TIMESTAMP',
  'customer_id': 'INTEGER',
  'product_id': 'INTEGER',
  'quantity': 'INTEGER',
  'unit_price': 'DECIMAL(10,2)',
  'coupon_code': 'VARCHAR',
  'status': 'VARCHAR'
})
