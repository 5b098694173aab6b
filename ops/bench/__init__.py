"""`inv bench`: staged purchase load, verified orders, CPU per service, report with plots, baseline, capacity."""
