"""Supervision (督导, issue 18): the responsible inspector's schools and monthly visits, rectification
tasks, and the dashboards and monthly reports a bureau reads (docs/domain.md "Supervision")."""
