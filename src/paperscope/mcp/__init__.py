"""paperscope as an MCP server: the library's search, papers, people, digests and recommendations as tools."""
