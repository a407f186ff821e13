"""Provider tests, laid out like plugins/providers: shared pieces here, one package per provider.

Packages (not bare folders) so that modules with the same name in two providers
(`pluggy/test_client.py`, `ifood/test_client.py`) are distinct modules for pytest.
"""
