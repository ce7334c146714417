"""Sources: read-only filesystem views over directories, hosts, images, zips and SBOMs."""
