package notice

import (
	"fmt"
	"reflect"
	"text/template/parse"
)

// checker walks a part's parse trees and reports every field, method or
// template a template refers to that the data does not have, before any
// notice is rendered. Types it cannot know (the result of index, an
// interface) are not checked further; missingkey=error and the executor
// catch those at render time.
type checker struct {
	trees   map[string]*parse.Tree
	report  func(tr *parse.Tree, n parse.Node, reason string)
	ranges  func(tr *parse.Tree, n parse.Node, reason string) // nil: not checked
	visited map[string]bool                                   // template name + dot type already checked
}

// scope is the dot and the variables in force at one point of a template.
type scope struct {
	dot  reflect.Type
	vars map[string]reflect.Type // nil value: unknown type
}

func (s scope) with(dot reflect.Type) scope {
	vars := make(map[string]reflect.Type, len(s.vars))
	for k, v := range s.vars {
		vars[k] = v
	}
	return scope{dot: dot, vars: vars}
}

var dataType = reflect.TypeFor[*Data]()

// checkFields type-checks a part from its root with *Data as dot.
func checkFields(p part, report func(tr *parse.Tree, n parse.Node, reason string)) {
	c := &checker{trees: p.trees, report: report, visited: map[string]bool{}}
	c.template(p.root, dataType)
}

// checkRanges reports every range over something that is not a list of
// the data: a number, or a value whose type cannot be known before run time.
func checkRanges(p part, report func(tr *parse.Tree, n parse.Node, reason string)) {
	c := &checker{trees: p.trees, report: func(*parse.Tree, parse.Node, string) {}, ranges: report, visited: map[string]bool{}}
	c.template(p.root, dataType)
}

func (c *checker) template(name string, dot reflect.Type) {
	key := name + "\x00" + fmt.Sprint(dot)
	tr := c.trees[name]
	if c.visited[key] || tr == nil || tr.Root == nil {
		return
	}
	c.visited[key] = true
	c.list(tr, tr.Root, scope{dot: dot, vars: map[string]reflect.Type{"$": dot}})
}

func (c *checker) list(tr *parse.Tree, l *parse.ListNode, s scope) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		c.node(tr, n, s)
	}
}

func (c *checker) node(tr *parse.Tree, n parse.Node, s scope) {
	switch n := n.(type) {
	case *parse.ActionNode:
		c.pipe(tr, n.Pipe, s) // declarations stay in force to the end of the list
	case *parse.IfNode:
		c.branch(tr, &n.BranchNode, s, false)
	case *parse.WithNode:
		c.branch(tr, &n.BranchNode, s, true)
	case *parse.RangeNode:
		inner := s.with(nil)
		t := c.pipeType(tr, n.Pipe, inner)
		key, elem := rangeTypes(t)
		if elem == nil && c.ranges != nil {
			c.ranges(tr, n, "range only over a list in the data")
		}
		inner.dot = elem
		switch len(n.Pipe.Decl) {
		case 1:
			inner.vars[n.Pipe.Decl[0].Ident[0]] = elem
		case 2:
			inner.vars[n.Pipe.Decl[0].Ident[0]] = key
			inner.vars[n.Pipe.Decl[1].Ident[0]] = elem
		}
		c.list(tr, n.List, inner)
		c.list(tr, n.ElseList, s.with(s.dot))
	case *parse.TemplateNode:
		var dot reflect.Type
		if n.Pipe != nil {
			dot = c.pipe(tr, n.Pipe, s.with(s.dot))
		}
		if c.trees[n.Name] == nil {
			c.report(tr, n, fmt.Sprintf("template %q is not defined", n.Name))
			return
		}
		c.template(n.Name, dot)
	}
}

func (c *checker) branch(tr *parse.Tree, b *parse.BranchNode, s scope, with bool) {
	inner := s.with(s.dot)
	t := c.pipe(tr, b.Pipe, inner)
	if with {
		inner.dot = t
	}
	c.list(tr, b.List, inner)
	c.list(tr, b.ElseList, s.with(s.dot))
}

// pipe checks a pipeline, declares its variables in s, and returns its type.
func (c *checker) pipe(tr *parse.Tree, p *parse.PipeNode, s scope) reflect.Type {
	t := c.pipeType(tr, p, s)
	if p != nil && !p.IsAssign {
		for _, v := range p.Decl {
			s.vars[v.Ident[0]] = t
		}
	}
	return t
}

func (c *checker) pipeType(tr *parse.Tree, p *parse.PipeNode, s scope) reflect.Type {
	if p == nil {
		return nil
	}
	var t reflect.Type
	for _, cmd := range p.Cmds {
		t = c.command(tr, cmd, s)
	}
	return t
}

func (c *checker) command(tr *parse.Tree, cmd *parse.CommandNode, s scope) reflect.Type {
	for _, arg := range cmd.Args[1:] {
		c.arg(tr, arg, s)
	}
	if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
		if f, ok := funcs[id.Ident]; ok {
			return reflect.TypeOf(f).Out(0)
		}
		return nil // a built-in
	}
	return c.arg(tr, cmd.Args[0], s)
}

// arg returns the type of one operand, reporting unknown fields.
func (c *checker) arg(tr *parse.Tree, n parse.Node, s scope) reflect.Type {
	switch n := n.(type) {
	case *parse.DotNode:
		return s.dot
	case *parse.FieldNode:
		return c.fields(tr, n, s.dot, n.Ident)
	case *parse.VariableNode:
		t, ok := s.vars[n.Ident[0]]
		if !ok {
			return nil // the parser already refuses undefined variables
		}
		return c.fields(tr, n, t, n.Ident[1:])
	case *parse.ChainNode:
		return c.fields(tr, n, c.arg(tr, n.Node, s), n.Field)
	case *parse.PipeNode:
		return c.pipeType(tr, n, s.with(s.dot))
	case *parse.StringNode:
		return reflect.TypeFor[string]()
	case *parse.BoolNode:
		return reflect.TypeFor[bool]()
	}
	return nil
}

// fields follows a chain of field or method names from type t.
func (c *checker) fields(tr *parse.Tree, n parse.Node, t reflect.Type, names []string) reflect.Type {
	for _, name := range names {
		if t == nil {
			return nil
		}
		next, ok := member(t, name)
		if !ok {
			c.report(tr, n, fmt.Sprintf("unknown field .%s on %s", name, typeName(t)))
			return nil
		}
		t = next
	}
	return t
}

// member returns the type of field or method name of t; unknown (nil, true)
// where the template package decides at run time.
func member(t reflect.Type, name string) (reflect.Type, bool) {
	if m, ok := t.MethodByName(name); ok && m.IsExported() {
		return firstOut(m.Type), true
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if m, ok := reflect.PointerTo(t).MethodByName(name); ok && m.IsExported() {
			return firstOut(m.Type), true
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, true
	case reflect.Map:
		return t.Elem(), t.Key().Kind() == reflect.String
	case reflect.Struct:
		if f, ok := t.FieldByName(name); ok && f.IsExported() {
			return f.Type, true
		}
	}
	return nil, false
}

func firstOut(ft reflect.Type) reflect.Type {
	if ft.NumOut() == 0 {
		return nil
	}
	return ft.Out(0)
}

func rangeTypes(t reflect.Type) (key, elem reflect.Type) {
	if t == nil {
		return nil, nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return reflect.TypeFor[int](), t.Elem()
	case reflect.Map:
		return t.Key(), t.Elem()
	}
	return nil, nil
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}
