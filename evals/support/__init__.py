"""The labelled sentence-support set: fit the support check's threshold on dev, report it on test."""
