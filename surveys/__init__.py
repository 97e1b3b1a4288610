"""The Stemmer domain: organisations, campaigns, walls, prompts and answers.

Nothing in this package imports Flask; services take an SQLAlchemy session.
"""
