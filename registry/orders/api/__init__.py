"""JSON API of orders, one module per audience: school.py (school_admin) and provider.py (provider_admin)."""
