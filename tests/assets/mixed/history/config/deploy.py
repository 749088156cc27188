HOST = "deploy.example.com"
deploy_password = "Hx7-mixed-canary-9QzL"
