-- Completion in the chat buffer: `/` commands from claw.commands (at the start of the draft)
-- and `@` mentions from claw.completeMentions. Served as the buffer's 'omnifunc' (<C-x><C-o>)
-- and, when installed, as an nvim-cmp source and a blink.cmp provider (module 'claw.completion').
local M = {}

local REQUEST_TIMEOUT_MS = 3000
local MENTION_LIMIT = 30

--- The `/` or `@` token ending at byte column `col` (0-based, exclusive) of `line`.
---@param line string
---@param col integer
---@param first_draft_line boolean  whether `line` is the first line under the input heading
---@return { trigger: '/'|'@', query: string, start: integer }?
function M.token_at(line, col, first_draft_line)
  local before = line:sub(1, col)
  local command = before:match('^/([%w_:%.%-]*)$')
  if command and first_draft_line then
    return { trigger = '/', query = command, start = 0 }
  end
  local query = before:match('@([^%s@]*)$')
  if query then
    local start = #before - #query - 1
    if start == 0 or before:sub(start, start):match('%s') then
      return { trigger = '@', query = query, start = start }
    end
  end
  return nil
end

---@return vim.lsp.Client?, integer?
local function claw_client()
  local client_mod = require('claw.client')
  local source = client_mod.source_buffer()
  return client_mod.find(source), source
end

---@param trigger '/'|'@'
---@return string method, table argument
local function request_for(trigger, query, client, source)
  local folder = require('claw.client').folder_uri(client, source)
  if trigger == '/' then
    return 'claw.commands', { folder = folder }
  end
  return 'claw.completeMentions', { prefix = query, folder = folder, limit = MENTION_LIMIT }
end

--- The result as complete-items (:help complete-items).
---@param trigger '/'|'@'
---@param query string
---@param result any
---@return table[]
function M.items(trigger, query, result)
  local out = {}
  if type(result) ~= 'table' then
    return out
  end
  for _, entry in ipairs(result) do
    if type(entry) == 'table' and type(entry.name) == 'string' then
      if trigger == '/' then
        if vim.startswith(entry.name:lower(), query:lower()) then
          out[#out + 1] = {
            word = '/' .. entry.name,
            abbr = '/' .. entry.name .. (entry.argumentHint and entry.argumentHint ~= vim.NIL and (' ' .. entry.argumentHint) or ''),
            menu = entry.source and entry.source ~= vim.NIL and ('[' .. entry.source .. ']') or nil,
            info = entry.description ~= vim.NIL and entry.description or nil,
          }
        end
      else
        out[#out + 1] = {
          word = '@' .. entry.name,
          menu = type(entry.kind) == 'string' and ('[' .. entry.kind .. ']') or nil,
          info = type(entry.detail) == 'string' and entry.detail ~= '' and entry.detail or nil,
        }
      end
    end
  end
  return out
end

--- Asks the server; `callback(items)` runs on the main loop.
---@param token { trigger: '/'|'@', query: string }
---@param callback fun(items: table[])
function M.fetch(token, callback)
  local client, source = claw_client()
  if not client then
    return callback({})
  end
  local method, argument = request_for(token.trigger, token.query, client, source)
  require('claw.client').exec(client, method, argument, function(err, result)
    callback(err and {} or M.items(token.trigger, token.query, result))
  end, source)
end

---@return { trigger: '/'|'@', query: string, start: integer }?
local function token_under_cursor()
  local chat = require('claw.chat')
  local row, col = unpack(vim.api.nvim_win_get_cursor(0))
  local line = vim.api.nvim_get_current_line()
  local heading = chat.input_heading_row(vim.api.nvim_get_current_buf())
  if row - 1 <= heading then
    return nil -- only the draft completes
  end
  return M.token_at(line, col, row - 1 == heading + 1)
end

--- 'omnifunc' of the chat buffer.
---@param findstart integer
---@param base string
---@return integer|table
function M.omnifunc(findstart, base)
  if findstart == 1 then
    local token = token_under_cursor()
    return token and token.start or -3
  end
  local trigger = base:sub(1, 1)
  if trigger ~= '/' and trigger ~= '@' then
    return {}
  end
  local done, items = false, {}
  M.fetch({ trigger = trigger, query = base:sub(2) }, function(found)
    items, done = found, true
  end)
  vim.wait(REQUEST_TIMEOUT_MS, function()
    return done
  end, 10)
  return items
end

-- ── nvim-cmp source ─────────────────────────────────────────────────────────────────────────
local cmp_source = {}

function cmp_source.new()
  return setmetatable({}, { __index = cmp_source })
end

function cmp_source:is_available()
  return vim.api.nvim_buf_get_name(0) == require('claw.chat').BUF_NAME
end

function cmp_source:get_trigger_characters()
  return { '/', '@' }
end

function cmp_source:complete(_, callback)
  local token = token_under_cursor()
  if not token then
    return callback({ items = {}, isIncomplete = false })
  end
  M.fetch(token, function(items)
    callback({
      items = vim.tbl_map(function(item)
        return { label = item.word, detail = item.menu, documentation = item.info }
      end, items),
      isIncomplete = token.trigger == '@',
    })
  end)
end

--- Registers the nvim-cmp source 'claw' once, when nvim-cmp is installed.
local registered = false
function M.attach_sources(_)
  if registered then
    return
  end
  local ok, cmp = pcall(require, 'cmp')
  if ok and type(cmp.register_source) == 'function' then
    cmp.register_source('claw', cmp_source.new())
    registered = true
  end
end

-- ── blink.cmp provider: sources.providers.claw = { module = 'claw.completion' } ─────────────
function M.new()
  return setmetatable({}, {
    __index = {
      enabled = function()
        return vim.api.nvim_buf_get_name(0) == require('claw.chat').BUF_NAME
      end,
      get_trigger_characters = function()
        return { '/', '@' }
      end,
      get_completions = function(_, _, callback)
        local token = token_under_cursor()
        if not token then
          callback({ items = {}, is_incomplete_forward = false, is_incomplete_backward = false })
          return
        end
        M.fetch(token, function(items)
          callback({
            items = vim.tbl_map(function(item)
              return { label = item.word, insertText = item.word, detail = item.menu, documentation = item.info }
            end, items),
            is_incomplete_forward = token.trigger == '@',
            is_incomplete_backward = true,
          })
        end)
      end,
    },
  })
end

return M
