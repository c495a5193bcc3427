pytest_plugins = ["simulator.testing"]
