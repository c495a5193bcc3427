pytest_plugins = ["simulator.testing", "virtualtime.pytest_plugin", "pytester"]
