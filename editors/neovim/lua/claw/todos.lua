-- :Claw todos: the session's todo list (claw.todos) in the quickfix list, one item per todo
-- ([x] done, [>] in progress, [ ] pending). The conversation pane shows it live (issue 20).
local client_mod = require('claw.client')

local M = {}

local MARK = { completed = '[x]', in_progress = '[>]', pending = '[ ]' }

---@param todos table[]  {id, content, status} items as claw.todos returns them
---@return table[]  quickfix items (no file: the text is the todo)
function M.items(todos)
  local items = {}
  for _, todo in ipairs(todos or {}) do
    local mark = MARK[todo.status] or '[ ]'
    items[#items + 1] = {
      text = ('%s %s. %s'):format(mark, tostring(todo.id), tostring(todo.content)),
      type = todo.status == 'in_progress' and 'W' or (todo.status == 'completed' and 'I' or 'N'),
      valid = 0,
    }
  end
  return items
end

function M.quickfix()
  client_mod.call('claw.todos', function(client, bufnr)
    return { folder = client_mod.folder_uri(client, bufnr) }
  end, function(err, result)
    if err then
      vim.notify(('claw: todos failed: %s'):format(err.message or '?'), vim.log.levels.ERROR)
      return
    end
    local todos = type(result) == 'table' and result.todos or {}
    if #todos == 0 then
      vim.notify('claw: no todo list in this session yet', vim.log.levels.INFO)
    end
    vim.fn.setqflist({}, ' ', { title = 'claw todos', items = M.items(todos) })
    if #todos > 0 then
      vim.cmd('copen')
    end
  end)
end

return M
