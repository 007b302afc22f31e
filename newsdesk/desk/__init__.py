"""The staff's desk: sources added and edited from a page of the site, and readers'
suggestions of sources, which staff approve (through the same add flow) or decline."""
