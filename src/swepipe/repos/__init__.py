"""Repositories at a commit and what we know about their code.

- `checkout`: a repository at `base_commit`, cached on disk and shared by instances.
- `files`: which files of a checkout count (language, tests, size, binary, generated, symlinks).
- `languages`, `code`: tree-sitter definitions (classes, functions, methods, variables) with spans.
- `skeleton`: Agentless-style compressed views of a file.
- `locations`: the Agentless location grammar, to spans and back.
- `chunks`, `embedders` (lexical features), `index`: what retrieval localization is built from.
"""
