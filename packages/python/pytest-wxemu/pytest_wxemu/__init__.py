"""pytest fixtures for wxemu (the plugin is pytest_wxemu.plugin)."""
