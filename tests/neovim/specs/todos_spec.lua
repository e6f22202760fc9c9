-- :Claw todos: the todo list the model wrote with todo_write, in the quickfix list.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup()

T.test(':Claw todos lists the todo list in the quickfix window', function()
  H.open('demo.py')
  H.script({
    { tool_calls = { { name = 'todo_write', arguments = { todos = {
      { content = 'read demo.py', status = 'completed' },
      { content = 'rename x', status = 'in_progress' },
      { content = 'add a test', status = 'pending' },
    } } } } },
    { text = 'Working through the list.' },
  })
  T.eq('done', H.ask('Claw ask plan and track it').result.stopReason)
  vim.cmd('Claw todos')
  T.wait(function()
    return vim.fn.getqflist({ title = 0 }).title == 'claw todos' and #vim.fn.getqflist() == 3
  end, 'the quickfix list')
  local texts = vim.tbl_map(function(item) return item.text end, vim.fn.getqflist())
  T.eq({ '[x] 1. read demo.py', '[>] 2. rename x', '[ ] 3. add a test' }, texts)
  T.eq('quickfix', vim.bo[vim.api.nvim_get_current_buf()].buftype)
end)

T.run()
