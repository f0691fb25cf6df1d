"""The default rule pack (YAML package data): one file per dimension, see pack.yaml."""
