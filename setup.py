"""Package discovery that pyproject.toml alone cannot express.

`recipes/` and `patches/` sit at the top of the repository (design brief) but must ship inside the wheel, so
they are mapped to the packages `verl_pipeline.recipes` and `verl_pipeline.patches`; find_packages cannot see
a mapped directory.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["verl_pipeline", "verl_pipeline.*"]) + ["verl_pipeline.recipes", "verl_pipeline.patches"],
    package_dir={"verl_pipeline.recipes": "recipes", "verl_pipeline.patches": "patches"},
)
