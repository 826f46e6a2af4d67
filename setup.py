"""Package discovery that pyproject.toml alone cannot express.

`recipes/` sits at the top of the repository (design brief) but must ship inside the wheel, so it is
mapped to the package `verl_pipeline.recipes`; find_packages cannot see a mapped directory.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["verl_pipeline", "verl_pipeline.*"]) + ["verl_pipeline.recipes"],
    package_dir={"verl_pipeline.recipes": "recipes"},
)
