"""Tables, records and plots. Plot modules (``plots_<topic>.py``) import matplotlib (Agg) and are
imported lazily by their callers, so importing this package stays cheap."""

__all__: list[str] = []
