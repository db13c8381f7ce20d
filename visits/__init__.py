"""Orders, visits, the chart, alerts, notifications and the patient portal: one package per capability."""
