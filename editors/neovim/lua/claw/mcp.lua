-- MCP servers in Neovim: :Claw prompt (the servers' prompts, run as /mcp__server__prompt
-- slash commands through claw.ask) and :Claw mcp (their state). The servers are configured in
-- the `mcp_servers` option (sent as initializationOptions.mcpServers).
local client_mod = require('claw.client')

local M = {}

--- A JSON string field, or nil (JSON null arrives as vim.NIL).
---@param value any
---@return string?
local function text(value)
  return type(value) == 'string' and value or nil
end

--- Prompt commands seen in the last claw.mcpServers answer (for :Claw prompt <Tab>).
---@type table[]
M.prompts = {}

---@param callback fun(payload: table)
local function fetch(callback)
  client_mod.call('claw.mcpServers', { start = true }, function(err, result)
    if err then
      vim.notify('claw: MCP servers: ' .. tostring(err.message or err), vim.log.levels.ERROR)
      return
    end
    local payload = type(result) == 'table' and result or {}
    M.prompts = {}
    for _, server in ipairs(payload.servers or {}) do
      for _, prompt in ipairs(server.prompts or {}) do
        table.insert(M.prompts, prompt)
      end
    end
    callback(payload)
  end)
end

--- Command names for completion ("mcp__server__prompt"); refreshes the list in the background.
---@return string[]
function M.complete()
  if #M.prompts == 0 and client_mod.find(client_mod.source_buffer()) then
    fetch(function() end)
  end
  return vim.tbl_map(function(prompt)
    return (prompt.command or ''):gsub('^/', '')
  end, M.prompts)
end

---@param prompt table  { command, usage, description }
---@param args string?
local function run(prompt, args)
  local text = prompt.command
  if args and vim.trim(args) ~= '' then
    text = text .. ' ' .. vim.trim(args)
  end
  require('claw.actions').ask({ prompt = text })
end

--- :Claw prompt [name [args...]]: without a name, pick one; then ask for its arguments.
---@param words string[]
function M.prompt(words)
  local name = words[1]
  if name then
    local rest = table.concat(vim.list_slice(words, 2), ' ')
    run({ command = '/' .. name:gsub('^/', '') }, rest)
    return
  end
  fetch(function()
    if #M.prompts == 0 then
      vim.notify('claw: no MCP server offers prompts (:Claw mcp shows the servers)')
      return
    end
    vim.ui.select(M.prompts, {
      prompt = 'claw MCP prompt',
      kind = 'claw_mcp_prompt',
      format_item = function(item)
        return ('%s  %s'):format(text(item.usage) or item.command, text(item.description) or '')
      end,
    }, function(item)
      if not item then
        return
      end
      local declared = vim.split(text(item.usage) or '', '%s+', { trimempty = true })
      if #declared <= 1 then
        run(item)
        return
      end
      local argument_names = table.concat(vim.list_slice(declared, 2), ' ')
      vim.ui.input({ prompt = item.command .. ' ' .. argument_names .. ': ' }, function(args)
        if args ~= nil then
          run(item, args)
        end
      end)
    end)
  end)
end

--- :Claw mcp: the servers, their state, tool counts and last error, in a scratch buffer.
function M.servers()
  fetch(function(payload)
    local lines = {}
    for _, server in ipairs(payload.servers or {}) do
      table.insert(
        lines,
        ('%s: %s, %d tools, %d resources, %d prompts%s'):format(
          server.name,
          server.state,
          server.tools or 0,
          server.resources or 0,
          #(server.prompts or {}),
          text(server.lastError) and (' (' .. text(server.lastError) .. ')') or ''
        )
      )
    end
    for _, file in ipairs(payload.projectFiles or {}) do
      table.insert(lines, ('project file %s: %s'):format(file.file, file.decision))
    end
    if #lines == 0 then
      lines = { 'No MCP servers configured (the mcp_servers option, see :help claw-mcp).' }
    end
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].bufhidden = 'wipe'
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true })
  end)
end

return M
