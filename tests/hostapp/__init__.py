"""A tiny host project's app, like the seed's OpticaApp: patients with their last eye exam.

Installed only by the sync tests (tests/test_contact_source.py), never by goteo.settings.
"""
