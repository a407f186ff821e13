"""The sandbox's Mercado Pago (placeholder docstring, completed below)."""

NAME = "mercadopago"  # its URL prefix (/mercadopago), its name in credentials, faults, logs and options
