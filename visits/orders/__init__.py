"""Therapy orders: the catalog in use, dose and rate plans with their live preview, and regimens turned into visits."""
