"""Let the assistant act: function tools, local and remote MCP servers, approvals.

Core (no textual, no sounddevice, no websockets, nothing of the session). The session drives
`ToolBox` (tui.tools.toolbox) with what happened and reads `updates` back; settings live in
`tui.config.tools` (cheap to import: the MCP SDK is only imported in a worker thread when
the tool box starts). docs/interfaces.md has the contract.
"""
