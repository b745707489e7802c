# codes
