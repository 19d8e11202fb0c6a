"""HTTP routes of the users service, one module per resource."""
