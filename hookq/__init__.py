"""hookq: settings, topology, logging and the command line shared by ingress and worker."""
