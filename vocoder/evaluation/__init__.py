"""Evaluation: metrics, hallucination measures, the benchmark runner and its report.

Never imports a backend by name: inverters come from the registry.
"""
