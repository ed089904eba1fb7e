from knock.cli import app

app()
