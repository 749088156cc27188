DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]
db_password = "Zx9-tree-canary-4TqW"
