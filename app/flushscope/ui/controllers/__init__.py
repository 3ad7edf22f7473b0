"""The window's controllers: QObjects with one job each, reporting through their own signals."""
