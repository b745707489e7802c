# alerts
