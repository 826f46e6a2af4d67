"""Data curation: published coding-problem formats -> verl's RL parquet. Imports neither verl nor Ray."""
