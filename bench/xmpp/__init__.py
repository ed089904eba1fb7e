"""Prosody and ejabberd beside Knock (``python -m bench --peers``)."""
