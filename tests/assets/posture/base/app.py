def handler(request):
    return {"ok": True}
