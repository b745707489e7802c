# status
