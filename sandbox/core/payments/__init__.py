"""What the payment gateways of the sandbox share: the checkout that sells through them, and the rules.

A tenant sells producers' products through a checkout (offers, order bumps, coupons, affiliates);
each order is paid at one gateway (the registry's payment platforms), whose package under
`sandbox/providers/<name>/` turns the order into that gateway's payment, fee, payout and bank
credit. Shared here, and naming no gateway:

- `knobs.CheckoutKnobs`: the rates of the checkout story every gateway's knobs extend;
- `checkout`: each tenant's catalogue (products, offers, bumps, coupons, affiliates, split rates)
  and the orders drawn from it;
- `facts`: the generic facts a gateway reports (payments, payouts, the credits it planned) and the
  contract rows (fee schedules) the tenant holds;
- `truth`: the ground truth of docs/payment-reconciliation-rules.md, computed from those facts.
"""
