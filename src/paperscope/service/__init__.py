"""The verbs every interface shares. Each takes the `Library` first and returns a typed result with `to_dict()`.

- `ingest`: import files, fetch from arXiv, harvest OAI-PMH
- `digest`: topic digests, topic pages, writing digest files
- `papers`: search, one paper with everything known about it, library stats
- `people`: author profiles, follows, citation enrichment
- `meaning`: embeddings, novelty, similar papers/authors, recommendations, ratings, AI Score
- `pipeline`: chains of steps (the demo)
"""
