"""Dataset profiles: each one yields labelled images that `prepare` lays out as class folders."""
