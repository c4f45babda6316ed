"""Drug screening and optimisation: molecules in, descriptors, alerts and predicted properties out."""
